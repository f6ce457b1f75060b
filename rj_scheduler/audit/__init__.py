"""The audit log: every read and change of case data and accounts, hash-chained."""
