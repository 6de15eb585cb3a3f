/*
 * The ThingsML measurement table (indexes -24..14).  Names and indexes are
 * those of KPN's device SDK (thingsml-c-library, enum ThingsMLMeasurementIndex
 * and the SENML_NAME_* strings); the unit is the SenML registry unit
 * (RFC 8428 section 12.1) of the quantity, which KPN Things reports for it.
 */
#include "m2mfota/thingsml.h"

#define M(name, unit) { name, unit, sizeof name - 1, sizeof unit - 1 }

/* Indexed by index - MFOTA_THINGSML_INDEX_MIN. */
static const struct mfota_thingsml_measure table[] = {
    M("temperature", "Cel"),          /* -24 */
    M("humidity", "%RH"),             /* -23 */
    M("latitude", "lat"),             /* -22 */
    M("longitude", "lon"),            /* -21 */
    M("altitude", "m"),               /* -20 */
    M("power", "W"),                  /* -19 */
    M("pressure", "Pa"),              /* -18 */
    M("angle", "rad"),                /* -17 */
    M("length", "m"),                 /* -16 */
    M("breadth", "m"),                /* -15 */
    M("height", "m"),                 /* -14 */
    M("weight", "kg"),                /* -13 */
    M("thickness", "m"),              /* -12 */
    M("distance", "m"),               /* -11 */
    M("area", "m2"),                  /* -10 */
    M("volume", "m3"),                /* -9 */
    M("velocity", "m/s"),             /* -8 */
    M("electricCurrent", "A"),        /* -7 */
    M("electricPotential", "V"),      /* -6 */
    M("electricResistance", "Ohm"),   /* -5 */
    M("illuminance", "lx"),           /* -4 */
    M("accelerationX", "m/s2"),       /* -3 */
    M("accelerationY", "m/s2"),       /* -2 */
    M("accelerationZ", "m/s2"),       /* -1 */
    M("heading", "rad"),              /* 0 */
    M("COConcentration", "ppm"),      /* 1 */
    M("CO2Concentration", "ppm"),     /* 2 */
    M("sound", "dB"),                 /* 3 */
    M("frequency", "Hz"),             /* 4 */
    M("batteryLevel", "%EL"),         /* 5 */
    M("batteryVoltage", "V"),         /* 6 */
    M("radius", "m"),                 /* 7 */
    M("batteryLevelLow", ""),         /* 8: a flag, no unit */
    M("compassX", "T"),               /* 9 */
    M("compassY", "T"),               /* 10 */
    M("compassZ", "T"),               /* 11 */
    M("readSwitch", ""),              /* 12: a switch state, no unit */
    M("presence", ""),                /* 13: a flag, no unit */
    M("counter", "count"),            /* 14 */
};

const struct mfota_thingsml_measure *mfota_thingsml_lookup(long index)
{
    if (index < MFOTA_THINGSML_INDEX_MIN || index > MFOTA_THINGSML_INDEX_MAX) {
        return NULL;
    }
    return &table[index - MFOTA_THINGSML_INDEX_MIN];
}

/* One entry per index: a table edited out of step with the bounds fails to build. */
typedef char mfota_thingsml_table_complete
    [(sizeof table / sizeof table[0] ==
      (size_t)(MFOTA_THINGSML_INDEX_MAX - MFOTA_THINGSML_INDEX_MIN + 1)) ? 1 : -1];
