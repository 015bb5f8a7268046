# Ion pumps and sector valve of one vacuum sector. Macros: P
dbLoadRecords("ion-pump.db", "P=$(P),N=IP1")
dbLoadRecords("ion-pump.db", "P=$(P),N=IP2")
dbLoadRecords("valve.db", "P=$(P),V=SV1")
