module appliance/workloads

go 1.23
