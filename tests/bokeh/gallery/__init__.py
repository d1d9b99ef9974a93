"""docsync's own Bokeh apps, written against Bokeh's public API for the Bokeh dialect's tests.

Each is written in the spirit of one of Bokeh's server examples or gallery kinds (see
README.md beside this file). They are not Bokeh's example sources: those are not
available to this test set-up (neither the bokeh wheel nor its sdist ships them).
"""
