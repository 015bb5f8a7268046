#!../../bin/linux-x86_64/softIoc
#- Beam position monitors of the linac: 10 BPMs from one template.
#- Run from this directory:  softIoc st.cmd   (or: pvsync parse examples/linac-bpm/st.cmd)

epicsEnvSet("IOCNAME", "linac-bpm")
epicsEnvSet("ENGINEER", "R. Kim (beam diagnostics)")
epicsEnvSet("LOCATION", "Linac gallery, rack LG-04")
epicsEnvSet("TOP", "$(TOP=.)")
epicsEnvSet("EPICS_DB_INCLUDE_PATH", "$(TOP)/db")

## Register all support components (skipped by pvsync parse)
dbLoadDatabase("$(EPICS_BASE=/opt/epics/base)/dbd/softIoc.dbd")
softIoc_registerRecordDeviceDriver(pdbbase)

## The BPMs and the system-wide records
dbLoadTemplate("bpm.substitutions", "SYS=LINAC")
dbLoadRecords("bpm-system.db", "SYS=LINAC, NBPM=10")

iocInit()
