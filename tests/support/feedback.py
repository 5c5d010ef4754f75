"""What a learner's feedback page must not show any more: nbgrader's English labels."""

ENGLISH_LABELS = (
    "Score",
    "Test cell",
    "Written response",
    "Student's answer",
    "Grade cell",
    "Comments",
    "No response",
    "Traceback",
    "(Top)",
    "In [",
    "Out[",
)
