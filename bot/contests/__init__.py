"""Law contests ("cuộc thi tìm hiểu chính sách, pháp luật"): rounds, a question bank, attempts, ranking."""
