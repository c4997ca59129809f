"""Where runs execute: the executor, its worker processes and the messages between them."""
