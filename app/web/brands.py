"""Brands pages."""

from flask import Blueprint

bp = Blueprint("brands", __name__)
