module github.com/ipvs-tools/ipvs

go 1.26
