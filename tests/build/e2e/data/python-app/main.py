import sys

import mlctl_demo_dep

print(f"value {mlctl_demo_dep.VALUE} from python {sys.version_info.major}.{sys.version_info.minor}")
print(f"loaded from {mlctl_demo_dep.__file__}")
