"""The reference's mail room (mode papier): plis posted by the recette team, registered, digitized, returned.

`letters` writes and reads the scanned pages (real PDFs), `posting` reads what the reference-only route
`POST /_recette/plis` receives, `mailroom` registers and digitizes a pli into a deposit of mode PAPIER, which
the worker processes and the outbox returns like any other (one return per pli).
"""
