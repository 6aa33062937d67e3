"""Deploying a cluster design onto a lab's nodes.

- ``rgmanager``: the RHEL 6 deploy sequence as data (a Plan of per-node commands), printed by
  `halab deploy --dry-run`; it cannot run live here (no RHEL 6 packages), users run it against
  their own RHEL/CentOS 6 image.
- ``pacemaker``: the live deploy the pytest fixtures run.

Submodules are imported by name, so importing this package pulls in neither.
"""
