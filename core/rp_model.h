/* rp_model.h — assemble the classifier from its data.
 *
 * Loads the built-in lexicons and language lists embedded from data/, then
 * the seller's extra lexicon files named in the configuration (which add to
 * or override the built-in entries), compiles everything and returns a
 * classifier the caller owns (rp_classifier_free). Any bad data file is an
 * RP_ECONFIG error naming file, line and column: replyd refuses to start
 * rather than classify with half a lexicon.
 */
#ifndef RP_MODEL_H
#define RP_MODEL_H

#include "rp_classify.h"
#include "rp_config.h"

rp_status rp_model_load(const rp_config *cfg, rp_classifier **out, rp_error *err);

#endif
