"""One model of a contract document, for lint, gate, fuzzing and campaign.

- `reading`: a YAML/JSON file into data (with the line and column of each value), and `LoadError`, the one
  error of an unusable contract file;
- `sources`: where files are read: the working tree, or a git revision (`REF:PATH`, `contract_input`);
- `nodes`: `Node`, a value with its file and JSON pointer;
- `references`: `Resolver`, which follows `$ref`s across files on demand (`RefError` when one leads nowhere);
- `dialects`: the one place that knows Swagger 2.0 from OpenAPI 3.0.x, and `HTTP_METHODS`;
- `contract`: `Document`, a contract as read and walked; `read_contract`;
- `usability`: version, references and structure defects, `unusable_contract`, `read_openapi`;
- `annotations`: findings placed in files, written for CI (SARIF, GitHub, GitLab).
"""

from harness.foundations.document.contract import Document, Operation, read_contract
from harness.foundations.document.dialects import HTTP_METHODS, Body, Dialect
from harness.foundations.document.nodes import Node, Place, pointer, shown
from harness.foundations.document.reading import LoadError, Position
from harness.foundations.document.references import RefError, Resolver
from harness.foundations.document.sources import GitRevision, Input, Source, WorkingTree, contract_input, same_file_in
from harness.foundations.document.usability import read_openapi, unusable_contract

__all__ = [
    "HTTP_METHODS",
    "Body",
    "Dialect",
    "Document",
    "GitRevision",
    "Input",
    "LoadError",
    "Node",
    "Operation",
    "Place",
    "Position",
    "RefError",
    "Resolver",
    "Source",
    "WorkingTree",
    "contract_input",
    "pointer",
    "read_contract",
    "read_openapi",
    "same_file_in",
    "shown",
    "unusable_contract",
]
