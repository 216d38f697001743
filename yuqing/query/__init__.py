"""The keyword language: one AST for keyword schemes and analyst search.

Compiled to an in-memory matcher here; search/ compiles the same AST to Elasticsearch DSL
and tantivy queries.
"""

from yuqing.query.ast import And, Node, Not, Or, Term, terms
from yuqing.query.matcher import Matcher, compile_matcher
from yuqing.query.normalize import normalize
from yuqing.query.parser import QuerySyntaxError, parse
from yuqing.query.scheme import SchemeMatcher, scheme_to_ast

__all__ = [
    "And", "Matcher", "Node", "Not", "Or", "QuerySyntaxError", "SchemeMatcher", "Term",
    "compile_matcher", "normalize", "parse", "scheme_to_ast", "terms",
]
