"""The libraries (issue 17; domain.md S6): one catalogue for the national e-library and the
school, college and university libraries, their copies, circulation and holds, and the
textbook fund.

Parts: ``text`` (search text and the folded Latin spelling), ``search`` (the catalogue
search and facets), ``windows`` (a search's window, kept per catalogue version),
``catalogue`` (records, approvals, digital files), ``holdings`` (copies, policy rows),
``checkout`` (a checkout in two statements), ``circulation`` (return, renewal, the loan
lists, the overdue job), ``holds`` (queues, the expiry job), ``textbooks`` (provision and
issuing sets), ``marc`` (MARC 21 import and export), ``oai`` (the OAI-PMH data provider),
``jobs``, ``rules`` and ``loaders``."""

from resolvers.library.catalogue import (
    BOOK_FILES,
    FileDraft,
    RecordDraft,
    approve_textbook,
    attach_bib_file,
    create_bib_record,
    normalize_isbn,
)
from resolvers.library.checkout import Lent, lend
from resolvers.library.circulation import (
    LOAN_ORDERINGS,
    LoanFilter,
    Returned,
    loans_query,
    renew_loan,
    require_borrower,
    return_item,
)
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import (
    ITEM_ORDERINGS,
    ItemFilter,
    Policy,
    add_library_items,
    items_query,
    set_library_policy,
)
from resolvers.library.holds import (
    HOLD_ORDERINGS,
    HoldFilter,
    Placed,
    cancel_hold,
    holds_query,
    place_hold,
)
from resolvers.library.jobs import LibraryJobReport, run_library_jobs
from resolvers.library.search import (
    CatalogueFilter,
    FacetCounts,
    catalogue_query,
    has_words,
)
from resolvers.library.textbooks import (
    ProvisionFilter,
    ProvisionLevel,
    ProvisionRow,
    TextbookIssue,
    TitleIssue,
    issue_textbooks,
    school_year_of,
    textbook_provision,
)
from resolvers.library.windows import (
    CATALOGUE_VERSION_KEY,
    CATALOGUE_VERSION_SQL,
    SearchKey,
    Window,
    page_stmt,
)
from resolvers.mutations import register_constraint

# The workflows check these first for a precise message; the constraints hold under concurrency.
register_constraint(
    "uq_loan_open_item", LibraryCode.ITEM_ON_LOAN, "This copy is already on loan", "barcode"
)
register_constraint(
    "uq_library_item_barcode",
    LibraryCode.DUPLICATE_BARCODE,
    "A barcode is already used at this library",
    "barcodes",
)
register_constraint(
    "uq_bib_record_isbn",
    LibraryCode.DUPLICATE_ISBN,
    "A record with this ISBN is in the catalogue",
    "isbn",
)
register_constraint(
    "uq_library_hold_open",
    LibraryCode.ALREADY_ON_HOLD,
    "This person already waits for this title",
    "recordId",
)

__all__ = [
    "BOOK_FILES",
    "CATALOGUE_VERSION_KEY",
    "CATALOGUE_VERSION_SQL",
    "HOLD_ORDERINGS",
    "ITEM_ORDERINGS",
    "LOAN_ORDERINGS",
    "CatalogueFilter",
    "FacetCounts",
    "FileDraft",
    "HoldFilter",
    "ItemFilter",
    "Lent",
    "LibraryCode",
    "LibraryJobReport",
    "LoanFilter",
    "Placed",
    "Policy",
    "ProvisionFilter",
    "ProvisionLevel",
    "ProvisionRow",
    "RecordDraft",
    "Returned",
    "SearchKey",
    "TextbookIssue",
    "TitleIssue",
    "Window",
    "add_library_items",
    "approve_textbook",
    "attach_bib_file",
    "cancel_hold",
    "catalogue_query",
    "create_bib_record",
    "has_words",
    "holds_query",
    "issue_textbooks",
    "items_query",
    "lend",
    "loans_query",
    "normalize_isbn",
    "page_stmt",
    "place_hold",
    "renew_loan",
    "require_borrower",
    "return_item",
    "run_library_jobs",
    "school_year_of",
    "set_library_policy",
    "textbook_provision",
]
