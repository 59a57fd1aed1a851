"""A command trial printing JSON lines; bad trials are pruned by SIGTERM to the process group."""

import json
import sys
import time

quality = float(sys.argv[1])
for step in range(30):
    print(json.dumps({"step": step, "loss": 1.0 / (1 + step * quality)}), flush=True)
    time.sleep(0.05)
print(json.dumps({"loss": 1.0 / (1 + 29 * quality)}), flush=True)
