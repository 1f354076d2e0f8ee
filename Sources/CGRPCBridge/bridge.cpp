#include "rosetta_grpc.h"
