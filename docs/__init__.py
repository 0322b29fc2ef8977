"""The user's documentation, installed with the package as jindu_metrics.docs (`jindu 说明` prints it)."""
