"""The demo town: `sync-server demo` (`command`) and its three months of answers (`data`)."""
