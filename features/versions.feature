# language: fr
Fonctionnalité: Versions majeures de l'API du titulaire
  Une version majeure est annoncée au moins trois mois avant sa mise en service ; l'ancienne majeure reste
  servie au moins six mois à côté de la nouvelle, signale sa dépréciation à chaque réponse, et un guide de
  migration accompagne le changement. La barrière de versions refuse ce qui enfreint ces règles.

  Scénario: Les deux majeures sont servies sur le même stock de dépôts
    Étant donné un dossier "RECETTE-VERSIONS" à l'itération 1
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et la version 1 et la version 2 sont servies
    Et le dépôt est consultable en version 2 avec son dossier

  @reference
  Scénario: La version 1 ne se dit pas dépréciée avant sa date
    Étant donné la date du titulaire est la veille de la dépréciation de la version 1
    Quand l'ASP consulte la santé en version 1
    Alors le titulaire répond 200
    Et la réponse ne porte aucun signal de dépréciation

  @reference
  Scénario: Une fois dépréciée, la version 1 l'annonce à chaque réponse
    Étant donné la date du titulaire est le jour de la dépréciation de la version 1
    Quand l'ASP consulte la santé en version 1
    Alors le titulaire répond 200
    Et la réponse porte les dates de dépréciation et de fin de vie
    Et la réponse renvoie vers la version 2 et vers le guide de migration

  @reference
  Scénario: Après sa fin de vie, la version 1 répond 410
    Étant donné la date du titulaire est le jour de la fin de vie de la version 1
    Quand l'ASP consulte la santé en version 1
    Alors le titulaire répond 410
    Et l'erreur est décrite en problem+json avec le code "version-retiree"

  Scénario: La barrière refuse un changement cassant sans montée de version majeure
    Étant donné une révision du contrat v1 qui rend "referenceContrat" obligatoire sans changer de version
    Quand la barrière de versions compare le contrat v1 à cette révision
    Alors la barrière refuse le changement avec la règle "cassant-sans-version-majeure"

  Scénario: La barrière refuse une version majeure annoncée trop tard
    Étant donné un calendrier où la version 2.0.0 est annoncée le 2026-12-01
    Quand la barrière de versions compare le contrat v1 au contrat v2
    Alors la barrière refuse le changement avec la règle "preavis-insuffisant"

  Scénario: La barrière accepte la version 2 avec le calendrier du projet
    Étant donné le calendrier des versions du projet
    Quand la barrière de versions compare le contrat v1 au contrat v2
    Alors la barrière accepte le changement
