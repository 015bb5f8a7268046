#!../../bin/linux-x86_64/softIoc
#- Vacuum of linac sector 1: two gauges, two ion pumps, one sector valve.
< envPaths

epicsEnvSet("IOCNAME", "vacuum-s1")
epicsEnvSet("ENGINEER", "M. Duarte (vacuum group)")
epicsEnvSet("LOCATION", "Linac sector 1, rack S1-02")
epicsEnvSet("P", "VAC:S1")

dbLoadDatabase "$(EPICS_BASE=/opt/epics/base)/dbd/softIoc.dbd"
softIoc_registerRecordDeviceDriver pdbbase

# Gauges: cold cathode gauges, pressure in mbar
dbLoadRecords("gauge.db", "P=$(P),G=GA1,LOC=upstream of the buncher")
dbLoadRecords("gauge.db", "P=$(P),G=GA2,LOC=downstream of tank 1")

# Ion pumps and the sector valve come from their own script
iocshLoad("pumps.cmd", "P=$(P)")

asSetFilename("$(TOP)/vacuum.acf")
iocInit
