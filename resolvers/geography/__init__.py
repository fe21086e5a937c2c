"""Geography: regions, districts (rayons and cities) and their validity over time (G1-G2)."""
