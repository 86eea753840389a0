# language: fr
Fonctionnalité: Versions majeures de l'API du titulaire
  Une version majeure est annoncée au moins trois mois avant sa mise en service ; l'ancienne majeure reste
  servie au moins six mois à côté de la nouvelle, signale sa dépréciation à chaque réponse, et un guide de
  migration accompagne le changement.

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
