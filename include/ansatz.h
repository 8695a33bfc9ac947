/* ansatz: physics-informed neural fields on PETSc. One header for the whole public API. */
#ifndef ANSATZ_H
#define ANSATZ_H

#include <ansatz/compat.h>
#include <ansatz/jet.h>
#include <ansatz/file.h>
#include <ansatz/problem.h>
#include <ansatz/field.h>
#include <ansatz/constraint.h>
#include <ansatz/sampler.h>
#include <ansatz/loss.h>
#include <ansatz/laplace.h>
#include <ansatz/trainer.h>
#include <ansatz/run.h>
#include <ansatz/reference.h>
#include <ansatz/discover.h>

#endif
