"""Answer diagnostics questions: understand, compute or retrieve, then compose.

``vocabulary`` reads what the stored records contain; ``understand`` reads a question
against it (dataset, intent, every constraint: applied, not understood, not found or
contradictory); ``analytic`` computes exact counts, breakdowns and rankings;
``compose`` writes offline answers from figures and passages; ``cohere_chat`` lets
Cohere write the prose when a key is set; ``service`` ties them together.
"""
