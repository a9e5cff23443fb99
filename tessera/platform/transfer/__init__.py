"""Import and export of records: CSV and XLSX files, streamed, through the records service."""
