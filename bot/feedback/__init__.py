"""People's reflections, complaints and proposals (phản ánh, kiến nghị) and officials' answers to them."""
