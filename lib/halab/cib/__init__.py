"""The pacemaker design as the user wrote it: a CIB and a corosync.conf, read into one Design."""

from halab.cib.corosync import load_corosync, read_corosync
from halab.cib.design import Design, load_design
from halab.cib.reader import Unsupported, load_cib, read_cib

__all__ = ["Design", "Unsupported", "load_cib", "load_corosync", "load_design", "read_cib", "read_corosync"]
