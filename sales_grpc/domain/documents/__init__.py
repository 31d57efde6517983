"""What every sales document shares: priced lines, totals, a lifecycle and its history."""
