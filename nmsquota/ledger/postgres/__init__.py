"""The PostgreSQL ledger store (issue 24): one database that several POPs' daemons can share.

schema.py makes and migrates its tables (`nmsquota ledger migrate`), connection.py opens a
connection and turns the driver's failures into ledger errors naming the database, store.py
is the store itself (a `Ledger`), records.py its typed records, listen.py the limits told
to other POPs' daemons as they commit (LISTEN/NOTIFY). Nothing here knows TinyDB;
nothing outside the store's registry (ledger/backends.py) imports this package.
"""
