"""What Loa Bản keeps about a person and the person's rights over it (Decree 13/2023/NĐ-CP): consent to a
versioned notice, a copy of their data, and erasure that deletes what is theirs and keeps, unattributed,
what officials must count."""
