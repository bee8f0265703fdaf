"""`kg build`: read the input files, load them into a new store, describe it, dump it, swap it in.

pipeline runs the stages; inputs, canonical, describe (VoID), stats, export, ontology_docs.
"""
