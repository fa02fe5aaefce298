// SEMStorage - SQLite (the only module that imports it) and the content-addressed blob store.
