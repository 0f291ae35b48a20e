"""The pipeline: sync, reconcile, the webhook inbox, the action outbox, the scheduler and the worker."""
