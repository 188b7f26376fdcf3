"""`newsbot bench`: newsbot against the bare tools it is built on, measured side by side."""
