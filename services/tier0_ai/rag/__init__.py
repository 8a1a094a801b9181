"""Answer diagnostics questions: route, compute or retrieve, then compose.

``router`` decides whether a question is analytics (log errors, incident counts:
computed exactly) or a document question (answered from retrieved passages);
``incidents`` computes incident figures; ``compose`` writes offline answers from
figures and passages; ``cohere_chat`` lets Cohere write the answer with citations
when a key is set; ``service`` ties them together.
"""
