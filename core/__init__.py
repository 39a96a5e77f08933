"""The foundation under every app (DESIGN.md §1): dates, exports and spreadsheets, imports, parsers, API error
bodies, env, db helpers, cache generations, the page cache, logging, request middleware, the append-only and
read-only bases. It imports no app of the project; every app may import it."""
