"""The annual report of an innovation site: its content (data) and the Word file (docx_out)."""
