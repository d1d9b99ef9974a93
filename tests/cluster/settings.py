"""Settings of the cluster tests: the demo site plus the cluster test app."""

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC

DOCSYNC["APPS"] = {
    **DOCSYNC["APPS"],
    "counted": "tests.cluster.apps_for_cluster",
    "storm": "tests.cluster.apps_for_cluster.storm",
}
