"""A shim for scrapyd-deploy, which builds its egg with ``setup.py bdist_egg``.

The project is declared in pyproject.toml; this file only lets that command run.
"""

from setuptools import setup

setup()
