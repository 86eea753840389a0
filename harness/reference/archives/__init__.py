"""The reference titulaire in archive mode (mode dossier): it watches the ASP's deposit server, extracts each
archive safely, publishes its reception notice and sends its one return through the outbox."""
