import sys

from stedi_lakehouse.cli import main

sys.exit(main())
