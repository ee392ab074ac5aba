"""Print the path of the plugin's pipeline file: ``python -m steppe_example.pipelines``."""

from steppe_example.pipelines import DETECTOR1_DQ_SUMMARY

print(DETECTOR1_DQ_SUMMARY)
