"""What people read: PDF layouts of sales documents (fpdf2 with embedded DejaVu fonts), money
formatting, and the process pool that renders off the event loop."""
