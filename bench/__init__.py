"""Load harness: N simultaneous calls through the carrier emulator against the app under daphne.

``make bench`` (``python -m bench``) prints a table of incoming-webhook answer times, ringing
fan-out times and a bare-view baseline. See bench/run.py for what each row measures.
"""
