#!../../bin/linux-x86_64/softIoc
#- Timing system event receiver: trigger delays and widths for the linac.
epicsEnvSet("IOCNAME", "timing-evr1")
epicsEnvSet("ENGINEER", "S. Ito (timing)")
epicsEnvSet("LOCATION", "Linac gallery, rack LG-01")
epicsEnvSet("EPICS_DB_INCLUDE_PATH", "db")

dbLoadDatabase("$(EPICS_BASE=/opt/epics/base)/dbd/softIoc.dbd")
softIoc_registerRecordDeviceDriver(pdbbase)

dbLoadTemplate("triggers.substitutions", "EVR=TIM:EVR1")
dbLoadRecords("evr.db", "EVR=TIM:EVR1")
iocInit()
