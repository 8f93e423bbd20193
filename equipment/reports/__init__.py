"""The equipment domain's parts of the auditor's report and its CSV exports."""
