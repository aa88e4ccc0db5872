"""Where the project's files live: the data shipped inside the kg package, and the build output.

The ontology, shapes, example queries and sources are package data, read through importlib.resources, so an
installed kg (wheel, `pip install .`) finds them in site-packages. In the checkout, kg/ontology, kg/shapes and
kg/queries are symbolic links to the top-level ontology/, shapes/ and queries/ folders (one copy of each file);
building a wheel copies the files they point to (pyproject.toml, [tool.setuptools.package-data]).

The build output defaults to ./build in the current folder, never inside the installed package.
"""

from importlib.resources import files
from pathlib import Path

PACKAGE = files("kg")
SOURCES = PACKAGE / "sources"
ARTICLE = SOURCES / "article-east-west-st-2022.txt"
MANIFEST = SOURCES / "sources.toml"  # the sources the project ships (kg.manifest)
ONTOLOGY = PACKAGE / "ontology" / "policykg.ttl"
SHAPES = PACKAGE / "shapes" / "policykg.ttl"
QUERIES = PACKAGE / "queries"
BUILD = Path("build")
STORE = BUILD / "store"
DUMPS = BUILD / "dumps"
# The checkout that holds the package (tests, README, git history); in an installed kg, the site-packages folder.
ROOT = Path(__file__).resolve().parent.parent
