"""Where the files that live beside the package are: alembic.ini, migrations/, locales/.

In a checkout or an editable install they sit next to ``app/``. An installed (non-editable)
package has only ``app/`` in site-packages, so ``HOTLINE_HOME`` names the folder that holds
them; the Docker image sets it to its working directory.
"""

import os
from pathlib import Path

HOME = Path(os.environ.get("HOTLINE_HOME") or Path(__file__).resolve().parent.parent)
