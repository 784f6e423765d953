"""What the database is seeded with: the default catalogs of every install
(``catalogs``), the demo data (``demo``) and the regional benchmark data (``bench``)."""
