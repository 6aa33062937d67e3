import sys

from halab.cli import main

sys.exit(main())
