#pragma once
#include <stdio.h>
#include <jpeglib.h>
#include "rosetta_jpeg.h"
