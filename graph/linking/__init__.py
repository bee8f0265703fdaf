"""Links from our entities to Wikidata, DBpedia, GeoNames: find, score, review, check, enrich.

client, profiles (per dataset), ours (our side), candidates, scoring, review, health, enrich.
"""
