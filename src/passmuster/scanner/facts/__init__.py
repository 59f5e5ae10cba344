"""What several rules derive from the parsed platform: secrets, versions, references, shared
requirement files, the code services share, installed and local modules, the shipped tables.

Nothing here opens a scanned file; each module answers one kind of question from the
`Platform` (values worth keeping for the whole scan are kept on it, see `Platform.derived`).
"""
